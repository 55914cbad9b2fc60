// The version of the reducer (evolve + snapshot codec). Snapshots record the
// version that wrote them; a snapshot of another version is stale and ignored
// (adr/0001). Bump it whenever evolve() or the snapshot codec changes what a
// snapshot holds or means.
export const currentReducerVersion = 1;
