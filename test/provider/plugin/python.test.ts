// The provider plugin's whole lifecycle from a Python program (lifecycle.ts).
import { lifecycleSuite } from './lifecycle.ts';

lifecycleSuite('python');
