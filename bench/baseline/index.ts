/**
 * The plain TypeScript implementation of the mpgameserver 0.2.4 wire format over node:crypto:
 * the baseline the Rust core is measured against. Written the way a Node developer would:
 * Buffers, `readUInt16BE`/`writeUInt16BE`, one `createCipheriv`/`createDecipheriv` per datagram.
 */
export * from './constants.js';
export * from './errors.js';
export * from './seq.js';
export * from './crc32.js';
export * from './header.js';
export * from './framing.js';
export * from './protect.js';
export * from './window.js';
export * from './datagram.js';
export * from './connection.js';
