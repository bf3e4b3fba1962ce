import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { currentDeadline } from './job-deadline';

/** What the tracker reads of a pg client: its server pid and its socket. */
interface PgClient {
  processID?: number;
  connection?: { stream?: { destroy(): void } };
}
type Release = (err?: unknown) => void;
interface MasterConnectionSource {
  obtainMasterConnection(): Promise<[PgClient, Release]>;
}

/**
 * Lets a job's deadline reach its database connections: every connection checked out of
 * the pool while a job runs is registered with that job's deadline until it is released,
 * so an expired job's connections can be destroyed (a wedged socket, a query waiting on a
 * lock) rather than handed to the next job. Wraps TypeORM's Postgres driver at the one
 * place every query runner gets its connection.
 */
@Injectable()
export class JobConnectionTracker implements OnModuleInit {
  private readonly logger = new Logger(JobConnectionTracker.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  onModuleInit(): void {
    const driver = this.db.driver as unknown as MasterConnectionSource;
    const obtain = driver.obtainMasterConnection.bind(driver);
    driver.obtainMasterConnection = async () => {
      const deadline = currentDeadline();
      const [client, release] = await obtain();
      if (!deadline) return [client, release];
      const forget = deadline.hold({ processID: client.processID, destroy: () => client.connection?.stream?.destroy() });
      return [client, (err?: unknown) => { forget(); release(err); }];
    };
  }

  /** Ends the server sessions of destroyed connections, so their transactions roll back and their locks go now. */
  async terminate(pids: number[]): Promise<void> {
    if (pids.length === 0) return;
    await this.db
      .query(`SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid`, [pids])
      .catch((err: unknown) => this.logger.warn(`could not end the sessions ${pids.join(', ')}: ${String(err)}`));
  }
}
