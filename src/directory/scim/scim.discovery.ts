import { SCIM } from './scim.schemas.js';

/** RFC 7643 §7 attribute definition. */
interface Attr {
  name: string;
  type: string;
  multiValued: boolean;
  required: boolean;
  caseExact: boolean;
  mutability: string;
  returned: string;
  uniqueness: string;
  description?: string;
  subAttributes?: Attr[];
}
const attr = (name: string, extra: Partial<Attr> = {}): Attr => ({
  name,
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  ...extra,
});
const complex = (name: string, subAttributes: Attr[], extra: Partial<Attr> = {}): Attr =>
  attr(name, { type: 'complex', subAttributes, ...extra });
const multi = (name: string, extra: Partial<Attr> = {}): Attr =>
  complex(name, [attr('value'), attr('display'), attr('type'), attr('primary', { type: 'boolean' })], { multiValued: true, ...extra });

const USER_ATTRIBUTES: Attr[] = [
  attr('userName', { required: true, uniqueness: 'server' }),
  complex(
    'name',
    ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map((n) => attr(n)),
  ),
  attr('displayName'),
  attr('nickName'),
  attr('title'),
  attr('userType'),
  attr('preferredLanguage'),
  attr('locale'),
  attr('timezone'),
  attr('active', { type: 'boolean' }),
  attr('password', { mutability: 'writeOnly', returned: 'never', description: 'Never provisioned: ignored when sent.' }),
  multi('emails'),
  multi('phoneNumbers'),
  complex(
    'addresses',
    ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type'].map((n) => attr(n)),
    { multiValued: true },
  ),
  multi('groups', { mutability: 'readOnly' }),
  multi('roles'),
];

const ENTERPRISE_ATTRIBUTES: Attr[] = [
  attr('employeeNumber'),
  attr('costCenter'),
  attr('organization'),
  attr('division'),
  attr('department'),
  complex('manager', [attr('value'), attr('displayName', { mutability: 'readOnly' })]),
];

const GROUP_ATTRIBUTES: Attr[] = [
  attr('displayName', { required: true, uniqueness: 'server' }),
  complex('members', [attr('value', { mutability: 'immutable' }), attr('display'), attr('type')], { multiValued: true }),
];

/** RFC 7644 §4 discovery documents, with absolute locations under `base` (…/scim/v2). */
export function discoveryDocuments(base: string) {
  const schemaDoc = (id: string, name: string, attributes: Attr[]) => ({
    schemas: [SCIM.schema],
    id,
    name,
    description: `${name} resource`,
    attributes,
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${id}` },
  });
  const schemas = [
    schemaDoc(SCIM.user, 'User', USER_ATTRIBUTES),
    schemaDoc(SCIM.enterprise, 'EnterpriseUser', ENTERPRISE_ATTRIBUTES),
    schemaDoc(SCIM.group, 'Group', GROUP_ATTRIBUTES),
  ];
  const resourceTypes = [
    {
      schemas: [SCIM.resourceType],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User account',
      schema: SCIM.user,
      schemaExtensions: [{ schema: SCIM.enterprise, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [SCIM.resourceType],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: SCIM.group,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
  const serviceProviderConfig = {
    schemas: [SCIM.spc],
    documentationUri: `${base.replace(/\/scim\/v2$/, '')}/docs`,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: 1000 },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'An API key secret as `Authorization: Bearer <secret>`; the key needs the users:write scope.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
  return { schemas, resourceTypes, serviceProviderConfig };
}
