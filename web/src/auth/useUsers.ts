import { useApi } from "../api/ApiProvider";
import { unwrap, type Schemas } from "../api/client";
import { useChange, useCursorList } from "../api/queries";

export type User = Schemas["UserOut"];
export const usersKey = ["auth", "users"] as const;
const PAGE_SIZE = 50;

/** The tenant's users, page by page (admins only; others get a 403 problem). */
export function useUsers() {
  const api = useApi();
  return useCursorList(usersKey, (cursor, signal) =>
    unwrap(api.GET("/api/v1/users", { params: { query: { limit: PAGE_SIZE, cursor } }, signal })),
  );
}

export function useCreateUser() {
  const api = useApi();
  return useChange(usersKey, (body: Schemas["UserCreate"]) => unwrap(api.POST("/api/v1/users", { body })));
}

export function useUpdateUser() {
  const api = useApi();
  return useChange(usersKey, ({ id, ...body }: Schemas["UserUpdate"] & { id: string }) =>
    unwrap(api.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: id } }, body })),
  );
}

export function useDeleteUser() {
  const api = useApi();
  return useChange(usersKey, (id: string) =>
    unwrap(api.DELETE("/api/v1/users/{user_id}", { params: { path: { user_id: id } } })),
  );
}
