export { DEFAULT_KB, PACKAGE_ROOT, loadKbAndMatcher, readBackground, type DropReason, type KbLoadReporter, type LoadKbOptions, type LoadedKb } from './load-kb-and-matcher.js';
export { mineUnmatched } from './mine-unmatched.js';
