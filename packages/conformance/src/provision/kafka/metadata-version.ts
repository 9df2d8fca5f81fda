// Feature level -> name of Kafka's `metadata.version` (MetadataVersion.java). The wire protocol
// carries no release string; a KRaft cluster's finalized metadata.version is the closest thing.
const NAMES = [
  '3.0-IV1',
  '3.1-IV0',
  '3.2-IV0',
  '3.3-IV0',
  '3.3-IV1',
  '3.3-IV2',
  '3.3-IV3',
  '3.4-IV0',
  '3.5-IV0',
  '3.5-IV1',
  '3.5-IV2',
  '3.6-IV0',
  '3.6-IV1',
  '3.6-IV2',
  '3.7-IV0',
  '3.7-IV1',
  '3.7-IV2',
  '3.7-IV3',
  '3.7-IV4',
  '3.8-IV0',
  '3.9-IV0',
  '4.0-IV0',
  '4.0-IV1',
  '4.0-IV2',
  '4.0-IV3',
  '4.1-IV0',
  '4.1-IV1',
];

export function metadataVersionName(level: number | undefined): string {
  if (level === undefined) return 'metadata.version unknown (ZooKeeper mode?)';
  return `metadata.version ${NAMES[level - 1] ?? `level ${level}`}`;
}
