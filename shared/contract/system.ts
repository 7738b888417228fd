import { z } from 'zod';

export const DescribeWorkbenchRequest = z.object({});

export const DescribeWorkbenchResponse = z.object({
  Version: z.string(),
  StateDirectory: z.string(),
  /** PKCS#11 libraries found at well-known paths on this machine, offered as defaults. */
  SuggestedModules: z.array(z.object({ ModulePath: z.string(), Description: z.string() })),
});

export const CancelOperationRequest = z.object({ CallId: z.string().min(1).max(64) });
export const CancelOperationResponse = z.object({ Cancelled: z.boolean() });
