// The provider plugin's whole lifecycle from a Go program (lifecycle.ts).
import { lifecycleSuite } from './lifecycle.ts';

lifecycleSuite('go');
