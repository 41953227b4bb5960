import { languageSuite } from "./conformance-lang.js";

languageSuite("haskell");
