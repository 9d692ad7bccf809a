/** The AppSet the demo applies: a small web app on every demo cluster, configured per region. */
export const SAMPLE_APP_SET = `apiVersion: flotilla.dev/v1alpha1
kind: AppSet
metadata:
  name: guestbook
spec:
  generators:
    - clusters:
        selector:
          matchLabels:
            env: demo
  template:
    name: guestbook
    namespace: guestbook
    manifests:
      - apiVersion: v1
        kind: Namespace
        metadata:
          name: guestbook
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: guestbook-config
        data:
          region: "{{ cluster.labels.region }}"
          greeting: "Hello from {{ cluster.name }}"
      - apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: guestbook
        spec:
          replicas: 2
          selector:
            matchLabels: { app: guestbook }
          template:
            metadata:
              labels: { app: guestbook }
            spec:
              containers:
                - name: web
                  image: registry.k8s.io/e2e-test-images/agnhost:2.39
                  args: ["netexec", "--http-port=8080"]
`;
