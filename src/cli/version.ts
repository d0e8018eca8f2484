/** The CLI's version (a module of its own so `vnp --version` loads nothing else). */
export const VERSION = '0.1.0';
