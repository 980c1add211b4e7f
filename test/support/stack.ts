// The stack launcher lives in libs/testing (the benchmarks use it too).
export { createAdminToken, ServiceProcess, Stack } from '@bridgekeeper/testing';
export type { ServiceName, StackOptions } from '@bridgekeeper/testing';
