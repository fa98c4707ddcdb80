// `npm run token -- <userId> [admin]`: a local HS256 token for trying the API (default secret,
// issuer and audience of the local set-up, or JWT_SECRET / JWT_ISSUER / JWT_AUDIENCE).
import { SignJWT } from "jose";

const [userId = "demo-user", role] = process.argv.slice(2);
const token = await new SignJWT({ roles: role === "admin" ? ["admin"] : [] })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(userId)
  .setIssuer(process.env.JWT_ISSUER ?? "ecommerce-local")
  .setAudience(process.env.JWT_AUDIENCE ?? "ecommerce-api")
  .setIssuedAt()
  .setExpirationTime("12h")
  .sign(new TextEncoder().encode(process.env.JWT_SECRET ?? "local-dev-secret-change-me"));
console.log(token);
