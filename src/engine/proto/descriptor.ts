import protobuf from 'protobufjs';

/** The protobufjs JSON descriptor of a .proto source (field names kept as written: `raw_data`). */
export function descriptorFromProto(source: string): Record<string, unknown> {
  const root = protobuf.parse(source, { keepCase: true }).root;
  // Through JSON so that keys protobufjs leaves undefined disappear, as in the generated module.
  return JSON.parse(JSON.stringify(root.toJSON())) as Record<string, unknown>;
}
