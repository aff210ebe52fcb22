import { describe, expect, expectTypeOf, it } from "vitest";

import type { Schemas } from "../api/client";
import { humanize, KINDS, kindLabel, PROVIDERS, providerLabel } from "./labels";

describe("discovery labels", () => {
  it("list every kind and provider of the API schema once, each with its own label", () => {
    // Checked by the type checker: the lists hold exactly the values the generated schema names.
    expectTypeOf<(typeof KINDS)[number]>().toEqualTypeOf<Schemas["NhiOut"]["kind"]>();
    expectTypeOf<(typeof PROVIDERS)[number]>().toEqualTypeOf<Schemas["NhiOut"]["provider"]>();

    expect(new Set(KINDS).size).toBe(KINDS.length);
    expect(KINDS.slice(0, 3)).toEqual(["iam_user", "iam_role", "access_key"]);
    expect(PROVIDERS).toEqual(["aws", "kubernetes", "github", "gcp", "azure", "vault", "code"]);
    expect(kindLabel("k8s_service_account")).toBe("K8s service account");
    expect(providerLabel("gcp")).toBe("Google Cloud");
  });

  it("show a value the console has no label for as its name made readable", () => {
    expect(kindLabel("quantum_token")).toBe(humanize("quantum_token"));
    expect(kindLabel("constructor")).toBe("Constructor");
    expect(providerLabel("oracle-cloud")).toBe("Oracle cloud");
  });
});
