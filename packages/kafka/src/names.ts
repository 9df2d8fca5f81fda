/**
 * The Kafka consumer group id of Switchyard group `group` on `topic`, unless `groupIdFor` says
 * otherwise: one id per topic and group, since a Kafka group spans every topic its members read
 * (see `KafkaOptions.groupIdFor`). A Switchyard topic is the Kafka topic of the same name.
 */
export function defaultGroupId(topic: string, group: string): string {
  return `${topic}.${group}`;
}
