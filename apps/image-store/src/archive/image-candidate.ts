// What an importer hands back before anything is recorded: all images of an archive are checked first,
// then recorded together, so a bad second image leaves no record of the first.
import type { Descriptor } from '@berth/oci';
import type { Resolution } from '../images/images';

export interface ImageCandidate {
  names: string[];
  target: Descriptor;
  resolution: Resolution;
  /** Layer facts to remember: blob digest → diff id and uncompressed size. */
  layerInfo: { digest: string; diffId: string; uncompressedSize: number }[];
}
