/** npm run bench:strength: match strength's cost, beside the pre-strength ranking (bench/strength.ts). */
import { compareStrength } from './strength.js';

await compareStrength();
