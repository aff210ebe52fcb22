import { describe, expect, it } from "vitest";

import {
  connectorSettings,
  initialValues,
  kindSpec,
  urlProblem,
  validateConnector,
  type KindSpec,
} from "./connectorKinds";

function spec(kind: string): KindSpec {
  const found = kindSpec(kind);
  if (!found) throw new Error(`no spec for ${kind}`);
  return found;
}

describe("connector forms", () => {
  it("refuses an endpoint that is not an http(s) URL, naming the field", () => {
    const aws = spec("aws");
    for (const endpoint of [
      "not a url",
      "ftp://iam.example.com",
      "javascript:alert(1)",
      "https://user:pw@iam.example.com",
    ]) {
      const problems = validateConnector(aws, "aws-prod", { ...initialValues(aws), endpoint_url: endpoint });
      expect(Object.keys(problems), endpoint).toEqual(["endpoint_url"]);
    }
    expect(urlProblem("https://iam.example.com:8443/path")).toBeNull();
  });

  it("checks names, patterns and required fields the way the server does", () => {
    const github = spec("github");

    const problems = validateConnector(github, " -bad name", {
      ...initialValues(github),
      org: "not/an org",
      token: "",
    });

    expect(problems).toEqual({
      name: expect.stringContaining("Start with a letter or digit"),
      org: expect.stringContaining("organisation login"),
      token: "Token is required",
    });
  });

  it("needs both AWS key fields or neither", () => {
    const aws = spec("aws");
    const base = { ...initialValues(aws) };

    expect(validateConnector(aws, "aws", base)).toEqual({});
    expect(validateConnector(aws, "aws", { ...base, access_key_id: "AKIAIOSFODNN7EXAMPLE" })).toEqual({
      secret_access_key: expect.stringContaining("needed with the other key field"),
    });
  });

  it("splits values into settings and credentials, leaving credentials out when none were given", () => {
    const aws = spec("aws");
    const values = {
      ...initialValues(aws),
      region: " eu-west-1 ",
      endpoint_url: "",
      access_key_id: "AKIAIOSFODNN7EXAMPLE",
      secret_access_key: "wJalr/secret with spaces ",
    };

    expect(connectorSettings(aws, values)).toEqual({
      config: { region: "eu-west-1" },
      credentials: { access_key_id: "AKIAIOSFODNN7EXAMPLE", secret_access_key: "wJalr/secret with spaces " },
    });
    expect(connectorSettings(aws, initialValues(aws))).toEqual({ config: { region: "us-east-1" }, credentials: null });
  });

  it("shows and sends only the fields of the chosen mode", () => {
    const kubernetes = spec("kubernetes");
    const offline = { ...initialValues(kubernetes), mode: "offline", kubeconfig: "apiVersion: v1", path: "" };

    expect(validateConnector(kubernetes, "eks", offline)).toEqual({ path: "Manifest folder is required" });
    expect(connectorSettings(kubernetes, { ...offline, path: "/srv/manifests" })).toEqual({
      config: { mode: "offline", cluster: "default", path: "/srv/manifests" },
      credentials: null,
    });
  });

  it("turns code paths into a list and numbers into numbers", () => {
    const code = spec("code");
    expect(validateConnector(code, "repos", { paths: "srv/relative", git: false })).toEqual({
      paths: "Each path must be absolute (start with /)",
    });
    expect(connectorSettings(code, { paths: " /srv/a \n\n/srv/b", git: true }).config).toEqual({
      paths: ["/srv/a", "/srv/b"],
      git: true,
    });
    const demo = spec("demo");
    expect(validateConnector(demo, "demo", { seed: "7", scale: "51" })).toEqual({ scale: "At most 50" });
    expect(connectorSettings(demo, { seed: "7", scale: "3" }).config).toEqual({ seed: 7, scale: 3 });
  });
});
