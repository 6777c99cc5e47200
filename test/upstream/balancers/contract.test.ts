import { balancers } from '../../../src/upstream/balancers/index.ts'
import { balancerContract } from './contract.ts'

for (const [name, factory] of Object.entries(balancers)) balancerContract(name, factory)
