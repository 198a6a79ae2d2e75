import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed documents from the checked-in schema (../schema.graphql, `make schema`): every
// `graphql(`...`)` call in src/ gets its result and variable types. documentMode "string" keeps
// the documents as plain strings at run time (no graphql-js in the bundle).
const config: CodegenConfig = {
  schema: "../schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**/*", "!src/**/*.test.ts"], // documents live in .ts files,
  ignoreNoDocuments: true,
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        documentMode: "string",
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", Duration: "string", JSON: "unknown" },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};
export default config;
