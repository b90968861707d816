import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policies } from "./policies";

// Only the construction: the policies are a plain array in policies.ts, which the offline plan and
// the tests evaluate the same way.
new PolicyPack(POLICY_PACK_NAME, { policies });
