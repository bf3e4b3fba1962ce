import { Client } from 'pg';
import { VectorTypeOid, vectorArrayParam, vectorParam } from '../src/database/vector-array-param';
import { vectorText } from '../src/embedding/vector-text';

/**
 * Vectors sent to Postgres in binary (a `vector[]` parameter, or one `vector`) are stored as
 * exactly the rows their text form gives; the type OID an array names is read once.
 */
describe('vectors in binary parameters', () => {
  const client = new Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/ingest_test' });
  beforeAll(async () => {
    await client.connect();
    await client.query(`CREATE TEMP TABLE v (n int, e vector(3), f vector)`);
  });
  afterAll(() => client.end());

  const oidOf = async (type: string): Promise<number> => Number((await client.query(`SELECT $1::regtype::oid AS oid`, [type])).rows[0].oid);
  const samples = [
    [0.1, -2.5, 3e-8],
    [1 / 3, -1.5, 123456.789],
    [Number.MAX_VALUE / 1e300, -1e-30, 0],
  ];

  it('stores the rows the text form stores, in order', async () => {
    const oid = await oidOf('vector');
    await client.query(`INSERT INTO v (n, e) SELECT o, e FROM unnest($1::vector[]) WITH ORDINALITY AS u(e, o)`, [vectorArrayParam(samples, oid)]);
    await client.query(`INSERT INTO v (n, e) SELECT -o, e FROM unnest($1::vector[]) WITH ORDINALITY AS u(e, o)`, [samples.map((s) => vectorText(s))]);
    const rows = (await client.query(`SELECT n, e::text FROM v ORDER BY abs(n), n`)).rows as Array<{ n: number; e: string }>;
    expect(rows).toHaveLength(6);
    for (let i = 0; i < rows.length; i += 2) expect(rows[i + 1].e).toBe(rows[i].e);
    expect(rows.filter((r) => r.n > 0).map((r) => r.n)).toEqual([1, 2, 3]);
    // One vector, any dimension.
    await client.query(`INSERT INTO v (n, f) VALUES (10, $1)`, [vectorParam([1, 2, 3, 4, 5])]);
    expect((await client.query(`SELECT f::text FROM v WHERE n = 10`)).rows[0].f).toBe('[1,2,3,4,5]');
    // An empty list is an empty array.
    expect((await client.query(`SELECT cardinality($1::vector[]) AS n`, [vectorArrayParam([], oid)])).rows[0].n).toBe(0);
  });

  it('keeps what the text form refuses refused: a wrong dimension, a NaN', async () => {
    const oid = await oidOf('vector');
    await expect(client.query(`INSERT INTO v (e) SELECT unnest($1::vector[])`, [vectorArrayParam([[1, 2]], oid)])).rejects.toThrow(/expected 3 dimensions, not 2/);
    await expect(client.query(`INSERT INTO v (e) SELECT unnest($1::vector[])`, [vectorArrayParam([[1, NaN, 2]], oid)])).rejects.toThrow(/NaN not allowed/);
  });

  it('reads the type OID once, and again after Postgres refuses a write for its element type', async () => {
    // This Postgres takes any element OID in a binary array; one that checks it answers 42804.
    let reads = 0;
    const type = new VectorTypeOid();
    const db = { query: async () => [{ oid: String(++reads) }] };
    const seen: number[] = [];
    const write = async (param: Buffer): Promise<void> => {
      seen.push(param.readUInt32BE(8));
      if (seen.length === 2) throw Object.assign(new Error('wrong element type'), { code: '42804' });
    };
    await type.write(db, samples, write);
    await expect(type.write(db, samples, write)).rejects.toThrow('wrong element type');
    await type.write(db, samples, write);
    await type.write(db, samples, write);
    expect(seen).toEqual([1, 1, 2, 2]);
  });
});
