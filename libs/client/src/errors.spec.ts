import { status } from '@grpc/grpc-js';
import { AlreadyExistsError, BerthClientError, FailedPreconditionError, fromServiceError, NotFoundError, UnavailableError, UnimplementedError } from './errors';

const se = (code: status, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: undefined });

describe('gRPC errors become typed SDK errors', () => {
  it.each([
    [status.NOT_FOUND, NotFoundError],
    [status.ALREADY_EXISTS, AlreadyExistsError],
    [status.FAILED_PRECONDITION, FailedPreconditionError],
  ])('code %d → its class, keeping the server message and code', (code, Cls) => {
    const e = fromServiceError(se(code, 'no such container: web'), '/berth.containers.v1.Containers/Get');
    expect(e).toBeInstanceOf(Cls);
    expect(e).toMatchObject({ message: 'no such container: web', code, method: '/berth.containers.v1.Containers/Get' });
  });

  it('UNAVAILABLE names the service and its address, without grpc-js noise', () => {
    const e = fromServiceError(
      se(status.UNAVAILABLE, 'No connection established. Last error: Error: connect ENOENT /run/x/supervisor.sock. Resolution note: '),
      '/berth.containers.v1.Containers/List',
      'unix:///run/x/supervisor.sock',
    );
    expect(e).toBeInstanceOf(UnavailableError);
    expect(e.message).toBe('cannot reach the supervisor service at unix:///run/x/supervisor.sock: is it running? (connect ENOENT /run/x/supervisor.sock)');
  });

  it('UNIMPLEMENTED says which RPC the service lacks', () => {
    const e = fromServiceError(se(status.UNIMPLEMENTED, 'x'), '/berth.inspector.v1.Inspector/Top');
    expect(e).toBeInstanceOf(UnimplementedError);
    expect(e.message).toBe('the inspector service does not serve berth.inspector.v1.Inspector/Top yet');
  });

  it('a non-gRPC error keeps its message', () => {
    const e = fromServiceError(new Error('boom'), 'm');
    expect(e).toBeInstanceOf(BerthClientError);
    expect(e.message).toBe('boom');
  });
});
