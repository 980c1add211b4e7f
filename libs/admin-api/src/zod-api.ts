import { ArgumentMetadata, PipeTransform, applyDecorators } from '@nestjs/common';
import { ApiBody, ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';

/** Validates a body or query with a zod schema (unknown fields refused); errors name the field. */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown, _meta: ArgumentMetadata): z.infer<S> {
    return this.schema.parse(value ?? {});
  }
}

/** The OpenAPI schema of a zod schema, so the docs and the validation never disagree. */
export function openApiSchema(schema: z.ZodType): Record<string, any> {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}

export const ApiZodBody = (schema: z.ZodType, description?: string) => ApiBody({ schema: openApiSchema(schema), description });

/** Documents each property of a zod object schema as a query parameter. */
export function ApiZodQuery(schema: z.ZodObject<z.ZodRawShape>) {
  const props = (openApiSchema(schema).properties ?? {}) as Record<string, Record<string, any>>;
  return applyDecorators(...Object.entries(props).map(([name, prop]) => ApiQuery({ name, required: false, schema: prop, description: prop.description })));
}
