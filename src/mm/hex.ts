/** An address or length as the op log and error messages print it: 0x-prefixed hex. */
export const hex = (n: number): string => '0x' + n.toString(16);
