"""Keystone helper for the lab (stdlib only, run with Debian's python3).

  keystone_setup.py token URL PASSWORD
      print a project-scoped token for admin/admin
  keystone_setup.py setup URL PASSWORD CINDER_BASE STATE_DIR
      ensure the catalog has Cinder (block-storage -> /v3, volumev3 ->
      /v3/%(project_id)s) in RegionOne, ensure an application credential
      "lab-provisioner" for admin (secret kept in STATE_DIR), and print the
      env lines (OS_*, KS_PROJECT_ID) for lab.env on stdout.
"""
import json
import os
import sys
import urllib.error
import urllib.request


def call(method, url, token=None, body=None, want_token=False):
    req = urllib.request.Request(url, method=method)
    req.add_header('Content-Type', 'application/json')
    if token:
        req.add_header('X-Auth-Token', token)
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(req, data, timeout=60) as r:
            raw = r.read()
            out = json.loads(raw) if raw else {}
            return (r.headers['X-Subject-Token'], out) if want_token else out
    except urllib.error.HTTPError as e:
        sys.exit('%s %s -> HTTP %s: %s' % (method, url, e.code, e.read()[:500]))


def token(url, password):
    return call('POST', url + '/auth/tokens', body={'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'admin', 'domain': {'id': 'default'},
            'password': password}}},
        'scope': {'project': {'name': 'admin',
                              'domain': {'id': 'default'}}}}},
        want_token=True)


def ensure_service(url, tok, stype, name):
    for s in call('GET', url + '/services?type=' + stype, tok)['services']:
        return s['id']
    return call('POST', url + '/services', tok, {'service': {
        'type': stype, 'name': name, 'enabled': True}})['service']['id']


def ensure_endpoints(url, tok, sid, endpoint_url):
    have = call('GET', url + '/endpoints?service_id=' + sid, tok)['endpoints']
    for iface in ('public', 'internal', 'admin'):
        ep = [e for e in have if e['interface'] == iface]
        if len(ep) == 1 and ep[0]['url'] == endpoint_url:
            continue
        for e in ep:
            call('DELETE', url + '/endpoints/' + e['id'], tok)
        call('POST', url + '/endpoints', tok, {'endpoint': {
            'service_id': sid, 'interface': iface, 'url': endpoint_url,
            'region_id': 'RegionOne', 'enabled': True}})


def main():
    cmd, url, password = sys.argv[1:4]
    tok, body = token(url, password)
    if cmd == 'token':
        print(tok)
        return
    cinder, state = sys.argv[4:6]
    user_id = body['token']['user']['id']
    project_id = body['token']['project']['id']
    sid = ensure_service(url, tok, 'block-storage', 'cinder')
    ensure_endpoints(url, tok, sid, cinder + '/v3')
    sid = ensure_service(url, tok, 'volumev3', 'cinderv3')
    ensure_endpoints(url, tok, sid, cinder + '/v3/%(project_id)s')

    # Application credential: the secret is only shown at creation, so keep
    # it in the state dir; recreate if keystone and the state file disagree.
    ac_file = os.path.join(state, 'app-credential.json')
    saved = None
    if os.path.exists(ac_file):
        with open(ac_file) as f:
            saved = json.load(f)
    acs = call('GET', url + '/users/%s/application_credentials?name='
               'lab-provisioner' % user_id, tok)['application_credentials']
    if not (saved and acs and acs[0]['id'] == saved['id']):
        for a in acs:
            call('DELETE', url + '/users/%s/application_credentials/%s'
                 % (user_id, a['id']), tok)
        ac = call('POST', url + '/users/%s/application_credentials' % user_id,
                  tok, {'application_credential': {
                      'name': 'lab-provisioner',
                      'description': 'standalone-cinder lab'}})
        saved = {'id': ac['application_credential']['id'],
                 'secret': ac['application_credential']['secret']}
        with open(ac_file, 'w') as f:
            json.dump(saved, f)
        os.chmod(ac_file, 0o600)

    print('# keystone mode: admin user in project admin; Cinder in the catalog')
    print('# as block-storage (%s/v3) and volumev3 (%s/v3/%%(project_id)s)'
          % (cinder, cinder))
    for k, v in [('OS_AUTH_URL', url), ('OS_IDENTITY_API_VERSION', '3'),
                 ('OS_AUTH_TYPE', 'password'),
                 ('OS_USERNAME', 'admin'), ('OS_PASSWORD', password),
                 ('OS_PROJECT_NAME', 'admin'),
                 ('OS_USER_DOMAIN_NAME', 'Default'),
                 ('OS_PROJECT_DOMAIN_NAME', 'Default'),
                 ('OS_REGION_NAME', 'RegionOne'),
                 ('OS_INTERFACE', 'public'),
                 ('OS_USER_ID', user_id), ('KS_PROJECT_ID', project_id),
                 ('OS_APPLICATION_CREDENTIAL_ID', saved['id']),
                 ('OS_APPLICATION_CREDENTIAL_SECRET', saved['secret'])]:
        print('%s=%s' % (k, v))


if __name__ == '__main__':
    main()
