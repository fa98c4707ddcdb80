import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/generated/**", ".infra/**", "**/dist/**", "coverage/**"] },
  js.configs.recommended,
  {
    files: ["**/*.ts"],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false, attributes: false } }],
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/only-throw-error": "error",
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "read configuration through the service's zod config schema" }],
    },
  },
  {
    files: [
      "**/test/**/*.ts",
      "**/*.test.ts",
      "e2e/**/*.ts",
      "bench/**/*.ts",
      "**/bench/**/*.ts",
      "packages/testing/**/*.ts",
      "**/prisma.config.ts",
      "**/src/config.ts",
      "packages/config/src/*.ts",
      "packages/prisma-kit/src/*.ts",
      "**/cli/**/*.ts",
      "**/fixtures/**/*.ts",
      "**/seed.ts",
    ],
    rules: {
      "no-restricted-properties": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    // The domain is rules and use cases: no framework, driver or transport, and no reaching into the service's edges.
    files: ["services/*/src/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            "express",
            "pg",
            "kafkajs",
            "ioredis",
            "redlock",
            "opossum",
            "prom-client",
            "@shop/outbox",
            "@shop/kafka",
            "@shop/http-kit",
            "@shop/service-kit",
            "node:http",
            "node:net",
          ].map((name) => ({
            name,
            message: "src/domain holds rules and use cases only; effects go behind a port (domain/ports.ts) implemented in src/data or src/clients",
          })),
          patterns: [
            { group: ["@prisma/*", "**/generated/**"], message: "src/domain does not know Prisma; repositories in src/data return plain objects" },
            {
              group: ["../data/*", "../http/*", "../events/*", "../clients/*", "../jobs/*"],
              message: "src/domain is called by the edges, never the other way round",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        fetch: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        AbortSignal: "readonly",
        TextEncoder: "readonly",
      },
    },
  },
);
