// The whole program with Pulumi.prod.yaml, as `pulumi up` runs it (one process per stack and mode).
import { programSuite } from "./support/programSuite";

programSuite("prod", false);
