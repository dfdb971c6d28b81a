// The provider plugin's whole lifecycle from a YAML program (lifecycle.ts).
import { lifecycleSuite } from './lifecycle.ts';

lifecycleSuite('yaml');
