import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { ReadResourceResponse, RegisterResourceResponse } from "@pulumi/pulumi/proto/resource_pb";
import { serializeProperties } from "@pulumi/pulumi/runtime/rpc";

/** What the plan uses of Pulumi's MockMonitor (runtime/mocks.js, @pulumi/pulumi 3.248). */
export interface MockMonitorInternals {
  registerResource(req: any, callback: (err: unknown, resp: any) => void): unknown;
  readResource(req: any, callback: (err: unknown, resp: any) => void): unknown;
  registerResourceOutputs(req: any, callback: (err: unknown, resp: any) => void): unknown;
  newUrn(parent: string, type: string, name: string): string;
  resources: Map<string, { urn: string; id: string | null; state: unknown }>;
}

/** The state MockMonitor keeps of a registration, read from the request only if asked for. */
class RegisteredState {
  #state: unknown;
  #read = false;
  constructor(readonly urn: string, readonly id: string | null, private readonly struct: { toJavaScript(): unknown } | undefined) {}
  get state(): unknown {
    if (!this.#read) {
      this.#state = this.struct?.toJavaScript() ?? {};
      this.#read = true;
    }
    return this.#state;
  }
  set state(value: unknown) {
    this.#state = value;
    this.#read = true;
  }
}

/**
 * Answers a registration as MockMonitor does when the mocks give a new resource its inputs as
 * state (a preview): the same URN, no id, and the request's own properties as the planned state.
 * MockMonitor gets there by deserialising the request's Struct, serialising the mocks' answer again
 * and building a second Struct of it, a round trip that was an eighth of a tenant stack's time.
 * The request's Struct is only read after this (by the SDK, the recording and the policies).
 */
export function answerAsPreview(monitor: MockMonitorInternals, req: any): RegisterResourceResponse {
  const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
  const object = req.getObject();
  monitor.resources.set(urn, new RegisteredState(urn, null, object));
  const response = new RegisterResourceResponse();
  response.setUrn(urn);
  response.setId("");
  if (object) response.setObject(object);
  return response;
}

/**
 * Answers a StackReference's read as MockMonitor does with the state the mocks give it (`name`,
 * `outputs`, `secretOutputNames`), the outputs serialised once per outputs object and shared:
 * every tenant stack of a plan reads the same platform outputs. `prepare` does the serialising
 * before a stack runs, so that every read is answered at once, whether first or not, and the
 * order in which a stack's registrations are answered does not depend on it.
 */
export class StackReferenceAnswers {
  readonly #outputs = new WeakMap<object, structproto.Value>();

  async prepare(outputs: Record<string, unknown>): Promise<void> {
    if (this.#outputs.has(outputs)) return;
    const serialized = await serializeProperties("", { outputs });
    this.#outputs.set(outputs, structproto.Value.fromJavaScript(serialized.outputs ?? {}));
  }

  answer(monitor: MockMonitorInternals, req: any, id: string, name: string, outputs: Record<string, unknown>, secretOutputNames: string[]): ReadResourceResponse {
    const value = this.#outputs.get(outputs);
    if (!value) throw new Error("the StackReference's outputs were not prepared before the stack ran");
    const properties = structproto.Struct.fromJavaScript({ name, secretOutputNames });
    properties.getFieldsMap().set("outputs", value);
    const urn = monitor.newUrn(req.getParent(), req.getType(), req.getName());
    monitor.resources.set(urn, new RegisteredState(urn, id, properties));
    const response = new ReadResourceResponse();
    response.setUrn(urn);
    response.setProperties(properties);
    return response;
  }
}
