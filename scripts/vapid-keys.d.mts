/** A fresh VAPID key pair: the raw public point and the private scalar, base64url without padding. */
export function newVapidKeys(): Promise<{ publicKey: string; privateKey: string }>;
