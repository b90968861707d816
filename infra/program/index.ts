import * as pulumi from "@pulumi/pulumi";
import { buildStack } from "./program";

// Entry point of `pulumi preview` / `pulumi up`: the stack name says what to build (program.ts).
export = buildStack(pulumi.getStack());
