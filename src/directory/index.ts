export { directoryRoutes } from './directory.routes.js';
export { createDirectoryService, type DirectoryService, USER_NOT_FOUND_MESSAGE } from './directory.service.js';
export { createScimRepo } from './scim/scim.repo.js';
export { createScimService, type ScimService } from './scim/scim.service.js';
