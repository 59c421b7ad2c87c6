// The console's only way to the hub: POST /graphql with the steward's key.

const STORAGE_KEY = "hub.console.apiKey";
const ENDPOINT = new URL("../graphql", document.baseURI).href;

export const apiKey = {
  get: () => sessionStorage.getItem(STORAGE_KEY),
  set: (key) => sessionStorage.setItem(STORAGE_KEY, key),
  forget: () => sessionStorage.removeItem(STORAGE_KEY),
};

/** A failed call: kind is unauthenticated, forbidden, network or graphql. */
export class ApiError extends Error {
  constructor(kind, message, errors = []) {
    super(message);
    this.kind = kind;
    this.errors = errors;
  }
}

function classify(errors) {
  const codes = errors.map((e) => e.extensions?.code);
  const text = errors.map((e) => e.message).join("; ");
  if (codes.includes("UNAUTHENTICATED")) return new ApiError("unauthenticated", text, errors);
  if (codes.includes("FORBIDDEN")) return new ApiError("forbidden", text, errors);
  return new ApiError("graphql", text, errors);
}

/** Run one operation; resolves to `data`, rejects with an ApiError on any error. */
export async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${apiKey.get() ?? ""}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError("network", `Check that the hub is running and the network is up (${error.message}).`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError("network", `The hub answered HTTP ${response.status} without a GraphQL result.`);
  }
  if (body.errors?.length) throw classify(body.errors);
  if (!response.ok) throw new ApiError("network", `The hub answered HTTP ${response.status}.`);
  return body.data;
}
