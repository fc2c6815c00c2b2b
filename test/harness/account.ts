import { expect } from 'vitest'
import type { Account } from '../../src/model/account.js'

type Balance = Pick<Account, 'pointsPlanned' | 'pointsWritten' | 'pointsFailed' | 'pointsInDoubt' | 'pointsUnsent'>

/**
 * A load's account is exact at every moment (src/load/result.ts): written + failed + in doubt +
 * unsent = planned. `planned` checks the plan's size too; `inDoubt` the points in doubt (a first
 * run that has ended has none: nothing is in flight and no earlier run left any).
 */
export function expectAccountBalances(a: Balance, also: { planned?: number; inDoubt?: number } = {}): void {
  expect(a.pointsWritten + a.pointsFailed + a.pointsInDoubt + a.pointsUnsent, 'written + failed + in doubt + unsent').toBe(a.pointsPlanned)
  if (also.planned !== undefined) expect(a.pointsPlanned, 'points planned').toBe(also.planned)
  if (also.inDoubt !== undefined) expect(a.pointsInDoubt, 'points in doubt').toBe(also.inDoubt)
}
