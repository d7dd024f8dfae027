import { snapshotterConformance } from './snapshotter-suite';

snapshotterConformance('copy');
