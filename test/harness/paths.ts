/** Paths of the checkout, from the compiled test's location (dist/test/...). */
import { fileURLToPath } from 'node:url';

export const TOP = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const TSNSPAWN = `${TOP}/bin/tsnspawn`;
export const HELPER = `${TOP}/native/tsnspawn-helper`;
export const IMAGES_BUILD = `${TOP}/images/build`;
