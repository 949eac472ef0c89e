/** Node-only helpers: `import {fileSystem, useBackend} from 'tfjs-losses/node'`. */
export {useBackend, NodeBackend} from './backend';
export {fileSystem} from './file-system';
