/** The CLI's version (a module of its own so `vnp --version` loads nothing else). */
export { VERSION } from '../model/version.js';
