// The whole program with Pulumi.dev.yaml, as `pulumi preview` runs it (one process per stack and mode).
import { programSuite } from "./support/programSuite";

programSuite("dev", true);
