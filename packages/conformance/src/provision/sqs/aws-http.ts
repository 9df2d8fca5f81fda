// Unsigned-but-plausible AWS requests: emulators ignore the signature, yet some reject a request
// with no Authorization header at all, so one is sent with a dummy credential.

function authorization(service: string): Record<string, string> {
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const scope = `${date.slice(0, 8)}/us-east-1/${service}/aws4_request`;
  return {
    'x-amz-date': date,
    authorization: `AWS4-HMAC-SHA256 Credential=test/${scope}, SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`,
  };
}

export interface AwsResponse<T> {
  readonly body: T;
  /** The HTTP Server header, which tells emulators apart. */
  readonly server: string;
}

/** One SQS action over the AWS JSON 1.0 protocol (what @aws-sdk/client-sqs v3 speaks). */
export async function sqs<T = Record<string, unknown>>(
  endpoint: string,
  action: string,
  input: Record<string, unknown>,
): Promise<AwsResponse<T>> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${action}`,
      ...authorization('sqs'),
    },
    body: JSON.stringify(input),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`SQS ${action}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return { body: (text ? JSON.parse(text) : {}) as T, server: response.headers.get('server') ?? '' };
}

/** One SNS action over the AWS query protocol; returns the XML text. */
export async function sns(endpoint: string, action: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...authorization('sns') },
    body: new URLSearchParams({ Action: action, Version: '2010-03-31', ...params }).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`SNS ${action}: HTTP ${response.status} ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
  return text;
}

export function xmlValue(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}
