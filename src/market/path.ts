import { hashString, normalAt } from './hash.js'

/**
 * Standard Brownian motion W at shard edges, by Lévy's binary-tree construction: W(0) = 0, the
 * last edge gets its value from the root, and every other edge is the midpoint of an interval
 * whose ends are known: a Brownian bridge draw. The draw for a tree node is a pure function of
 * (seed, symbol, node), so any worker gets any edge value in O(log shards), with no state built up
 * front and no dependency on which shards ran before. Together with the in-shard Brownian bridge
 * (`fillTrades` in gbm.ts) the whole range is one continuous path, whatever the shard count.
 *
 * Edge times are in years since the start of the load; `edgeTime(i)` gives them.
 */
export class EdgePath {
  private readonly key: number
  private readonly cache = new Map<number, number>()

  constructor(
    seed: string | number,
    symbol: string,
    private readonly edges: number,
    private readonly edgeTime: (i: number) => number,
  ) {
    this.key = hashString(`${String(seed)}/${symbol}/path`)
  }

  private tEnd = NaN
  private wEnd = NaN

  /**
   * W at edge i (0 ≤ i ≤ edges). Every edge met on the way down is kept, so a shard's second edge
   * (i + 1) costs only the levels where its path leaves the first's: with 10,000 symbols a shard
   * asks for 20,000 edges.
   */
  at(i: number): number {
    if (i === 0) return 0
    if (Number.isNaN(this.wEnd)) {
      this.tEnd = this.edgeTime(this.edges)
      this.wEnd = Math.sqrt(this.tEnd) * normalAt(this.key, 0)
    }
    const tEnd = this.tEnd
    const wEnd = this.wEnd
    if (i === this.edges) return wEnd
    const hit = this.cache.get(i)
    if (hit !== undefined) return hit
    // Descend from [0, edges]; node ids number the tree like a heap (root 1, children 2n, 2n+1).
    let a = 0
    let b = this.edges
    let wa = 0
    let wb = wEnd
    let ta = this.edgeTime(a)
    let tb = tEnd
    let node = 1
    for (;;) {
      const m = Math.floor((a + b) / 2)
      const tm = this.edgeTime(m)
      let wm = this.cache.get(m)
      if (wm === undefined) {
        const mean = wa + ((tm - ta) / (tb - ta)) * (wb - wa)
        wm = mean + Math.sqrt(((tm - ta) * (tb - tm)) / (tb - ta)) * normalAt(this.key, node)
        this.cache.set(m, wm)
      }
      if (m === i) return wm
      if (i < m) {
        b = m
        wb = wm
        tb = tm
        node = 2 * node
      } else {
        a = m
        wa = wm
        ta = tm
        node = 2 * node + 1
      }
    }
  }
}
