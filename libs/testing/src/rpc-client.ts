import { connect, NatsConnection } from 'nats';
import { rpcRequest } from '@bridgekeeper/messaging';

/**
 * A test's own NATS connection for sending a service's commands as another service would (the
 * same wire as RpcClient), unchecked: a test may send what a contract refuses.
 */
export class RpcTestClient {
  private constructor(private readonly nc: NatsConnection) {}

  static async connect(url: string): Promise<RpcTestClient> {
    return new RpcTestClient(await connect({ servers: url, name: 'test-rpc' }));
  }

  send(subject: string, payload: unknown, timeoutMs = 30_000): Promise<any> {
    return rpcRequest(this.nc, subject, payload, timeoutMs);
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
