import type { AppImageTable } from "../blocks/app-image";

/** Where the docker-library image's versions were read: its versions.json at two commits. */
const VERSIONS_7_0_4 = "https://github.com/docker-library/wordpress/blob/51d7c69e88cf9e1923f25e635033f6cd7e0b05d9/versions.json";
const VERSIONS_7_1_0 = "https://github.com/docker-library/wordpress/blob/bf223d1c2087b0b2c3b86eefa830fe4bbc2bce07/versions.json";

/** The OIDC plugin's slug on wordpress.org, which is also its folder under wp-content/plugins. */
export const OIDC_PLUGIN = "daggerhart-openid-connect-generic";

/**
 * The WordPress image table (docs/services/wordpress.md "Image table"): the Apache images of the
 * versions the catalog offers, PHP 8.3 (in both versions.json's `phpVersions`, variant `apache`),
 * and the pinned OIDC plugin. The site's data lives in `/var/www/html`, which the image's
 * entrypoint fills with WordPress and a wp-config.php reading the environment on first start.
 */
export const WORDPRESS_IMAGE: AppImageTable = {
  images: {
    "7.0.4": { image: "wordpress:7.0.4-php8.3-apache", seen: VERSIONS_7_0_4 },
    "7.1.0": { image: "wordpress:7.1.0-php8.3-apache", seen: VERSIONS_7_1_0 },
  },
  port: 80,
  // WordPress has no health endpoint; the REST index answers 200 once PHP, the database and the
  // install are there (the sign-in page redirects to Keycloak: OIDC_LOGIN_TYPE auto).
  healthPath: "/wp-json/",
  mounts: { html: "/var/www/html" },
  env: {},
  // uid 33 in the Debian-based Apache image; the CLI image (Alpine, where www-data is 82) runs as 33 too.
  user: "33",
  setupScript: "wordpress-setup.sh",
  extensions: {
    [OIDC_PLUGIN]: {
      version: "3.10.3",
      url: `https://downloads.wordpress.org/plugin/${OIDC_PLUGIN}.3.10.3.zip`,
      seen: "https://github.com/oidc-wp/openid-connect-generic/blob/3.10.3/readme.txt (Stable tag: 3.10.3); the zip is wordpress.org's download pattern",
    },
  },
};

/**
 * The wp-cli image the setup runs in: the Apache image has no wp-cli. wp-cli 2.12.0 is the `cli`
 * entry of versions.json at both commits above; the image's tags carry a `cli-` prefix
 * (docker-library/wordpress generate-stackbrew-library.sh).
 */
export const WORDPRESS_CLI_IMAGE = { image: "wordpress:cli-2.12.0-php8.3", seen: VERSIONS_7_1_0 } as const;
