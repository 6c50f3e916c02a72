// The CrossGuard policy pack: `pulumi preview --policy-pack policy` (and the pull-request workflow).
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("okta-api-gateway-guardrails", { policies });
