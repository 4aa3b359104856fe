import { app } from "./edge/app";

export { RegionLog } from "./region/RegionLog";
export { StatsShard } from "./stats/StatsShard";
export { UserInbox } from "./user/UserInbox";

export default app;
