// Recognises an injected SQS client by its shape, not by `instanceof`: a client built from
// another copy of the AWS SDK in the app's tree (a different version, or a second install) is
// used as given, with its region, endpoint, credentials and middleware intact.
import type { SQSClient } from "@aws-sdk/client-sqs";

/** Whether `value` is an SQS client (anything with the SDK client's `send` and `destroy`). */
export function isSqsClient(value: unknown): value is SQSClient {
  if (typeof value !== "object" || value === null) return false;
  const client = value as { send?: unknown; destroy?: unknown; config?: unknown };
  return (
    typeof client.send === "function" &&
    typeof client.destroy === "function" &&
    typeof client.config === "object" &&
    client.config !== null
  );
}
