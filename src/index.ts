import { app } from "./edge/app";

export { RegionLog } from "./region/RegionLog";
export { UserInbox } from "./user/UserInbox";

export default app;
