/** The network layer logs through gamewire's one logger factory (`ts/log.ts`). */
export { defaultLogger as rootLogger, componentLogger, type Logger } from '../log.js';
