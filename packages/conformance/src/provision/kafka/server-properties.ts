/**
 * A single-node KRaft broker (combined broker + controller) for tests: loopback only, replication
 * factors of 1 (there is one node), no initial rebalance delay (tests would wait 3 s per group).
 */
export function serverProperties(dataDir: string, port = 9092, controllerPort = 9093): string {
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    // Static voters: formats without --standalone on 3.9 and 4.x alike.
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=3',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // 50 offsets partitions (the default) take seconds to create on 2 cores; tests need few.
    'offsets.topic.num.partitions=10',
  ].join('\n')}\n`;
}
