import { BadRequestException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { errorBodyOf, reasonPhrase } from './error-body';

describe('errorBodyOf', () => {
  it('keeps a plain exception as statusCode, reason phrase and message', () => {
    expect(errorBodyOf(new NotFoundException('document x not found'))).toEqual({ statusCode: 404, error: 'Not Found', message: 'document x not found' });
    expect(errorBodyOf(new PayloadTooLargeException('too big'))).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'too big' });
  });

  it('joins a validation list into one message and keeps the list in details.errors', () => {
    const body = errorBodyOf(new BadRequestException(['content is required', 'property colour should not exist']));
    expect(body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'content is required; property colour should not exist',
      details: { errors: ['content is required', 'property colour should not exist'] },
    });
  });

  it('keeps every other field an exception carried in details, never at the top level', () => {
    const body = errorBodyOf(new HttpException({ message: 'not ready: redis', details: { redis: 'down' }, status: 'error', error: { redis: {} } }, 503));
    expect(Object.keys(body).sort()).toEqual(['details', 'error', 'message', 'statusCode']);
    expect(body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: 'not ready: redis' });
    expect(body.details).toEqual({ status: 'error', error: { redis: {} }, details: { redis: 'down' } });
  });

  it('a string response is the message', () => {
    expect(errorBodyOf(new HttpException('plain', 409))).toEqual({ statusCode: 409, error: 'Conflict', message: 'plain' });
  });

  it('names codes Nest has no phrase for', () => {
    expect(reasonPhrase(499)).toBe('Error');
    expect(reasonPhrase(599)).toBe('Server Error');
  });
});
