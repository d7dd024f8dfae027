import { snapshotterConformance } from './snapshotter-suite';

snapshotterConformance('overlay');
