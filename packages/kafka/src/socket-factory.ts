import { isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * kafkajs's socket factory with one change: the address a broker advertises can be rewritten
 * before connecting. A Kafka client bootstraps, then connects to whatever address each broker
 * advertises; behind a TCP proxy, a tunnel or NAT that address is unreachable (or bypasses the
 * proxy), so every connection must be sent to the reachable address instead. TLS still verifies
 * the advertised name.
 */
export function rewritingSocketFactory(
  rewrite: (address: BrokerAddress) => BrokerAddress = (address) => address,
  closed: () => boolean = () => false,
): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    // A client abandoned mid-connect (connectTimeoutMs) retries in kafkajs's own loop, which
    // nothing can stop: once the transport is closed, those attempts fail here without a packet.
    if (closed()) throw new Error('the Switchyard transport is closed');
    const target = rewrite({ host, port });
    const socket = ssl
      ? tlsConnect(
          { host: target.host, port: target.port, ...(isIP(host) ? {} : { servername: host }), ...ssl },
          onConnect,
        )
      : netConnect({ host: target.host, port: target.port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}
